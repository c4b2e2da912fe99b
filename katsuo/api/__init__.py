"""HTTP routes, one module per section of Umami's API documentation. Handlers stay thin:
parse the request, check the policy, call a repository or service, return a typed model."""
