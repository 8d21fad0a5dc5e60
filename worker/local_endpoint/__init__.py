"""A local stand-in for RunPod Serverless's queue API, running the worker's handler in-process.

A client changes only its base URL (`http://127.0.0.1:PORT/v2/ENDPOINT_ID`). See docs/local-endpoint.md.
"""
