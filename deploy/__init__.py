"""Deploy the worker to RunPod Serverless: `python -m deploy …` (README: Deploy to RunPod)."""
