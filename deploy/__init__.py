"""Deploy the worker to RunPod Serverless: `python -m deploy …` (docs/deploy.md)."""
