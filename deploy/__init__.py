"""Deploy the worker to RunPod Serverless: `python -m deploy …` (see docs/deploy.md)."""
