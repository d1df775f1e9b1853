# The Function image (func.yaml: `runtime: docker`). The same two stages as the Dockerfile Fn writes
# for its python runtime (fnproject/python:<v>-dev installs into /python, fnproject/python:<v> runs
# /python/bin/fdk with PYTHONPATH=/function:/python; see oracle-samples/oracle-functions-samples),
# but it installs the lock exactly and keeps only what the worker loads: see docs/deploy.md.
# tests/test_image.py repeats these steps without Docker and serves a request from the result.

FROM fnproject/python:3.11-dev AS build-stage
WORKDIR /function
COPY requirements.txt /tmp/requirements.txt
# The lock pins every dependency with hashes; --no-deps keeps fdk's build and test tools out.
RUN pip3 install --no-cache-dir --disable-pip-version-check --no-deps --require-hashes --only-binary=:all: \
        --no-compile --target /python/ -r /tmp/requirements.txt
COPY deploy/prune.py deploy/warm.py /tmp/deploy/
RUN python3 /tmp/deploy/prune.py /python
COPY func.py /function/
COPY app /function/app
COPY core /function/core
COPY graph /function/graph
COPY nodes /function/nodes
COPY adapters /function/adapters
COPY prompts /function/prompts
# Bytecode for what a request imports (the running image is read-only: Python cannot cache it then).
RUN PYTHONPATH=/function:/python python3 /tmp/deploy/warm.py && chmod -R o+r /python /function

FROM fnproject/python:3.11
WORKDIR /function
COPY --from=build-stage /python /python
COPY --from=build-stage /function /function
ENV PYTHONPATH=/function:/python
ENTRYPOINT ["/python/bin/fdk", "/function/func.py", "handler"]
