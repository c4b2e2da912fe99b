"""The browser tracker: its source (script.js), its build (build.py) and its route (route.py)."""
