# The two commands of the README: `make run` and `make test`.
.PHONY: run test setup setup-test

run: setup
	.venv/bin/katsuo serve

# Two worker processes, a test module each at a time (its module fixtures built once): most
# tests wait on a server, a browser or a database, so this halves the suite's time on 2 cores.
test: setup-test
	.venv/bin/python -m pytest -n 2 --dist loadscope

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --test
