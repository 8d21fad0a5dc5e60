"""RunPod's size limits, in one place so the app, the queue and the docs agree.

RunPod documents "10 MB" and "20 MB"; we read them as MiB, the reading `runpodctl` uses for its own preflight,
so a request a RunPod client considers small enough is never refused here.
"""
MB = 1024 * 1024
RUN_BODY_LIMIT = 10 * MB        # POST /run
RUNSYNC_BODY_LIMIT = 20 * MB    # POST /runsync
RESULT_LIMIT = 10 * MB          # len(json.dumps(output)) of a COMPLETED job; above it RunPod's job-done POST is refused
RUNSYNC_RETENTION_S = 60        # RunPod keeps /runsync results one minute
RUNSYNC_WAIT_DEFAULT_MS = 90_000
RUNSYNC_WAIT_RANGE_MS = (1_000, 300_000)
EXECUTION_TIMEOUT_DEFAULT_MS = 600_000
TTL_DEFAULT_MS = 86_400_000
POLICY_MAX_MS = 7 * 86_400_000
