# The two commands of the README: `make run` and `make test`.
.PHONY: run test setup setup-test

run: setup
	.venv/bin/katsuo serve

test: setup-test
	.venv/bin/python -m pytest

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --test
