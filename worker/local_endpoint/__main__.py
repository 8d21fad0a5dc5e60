import sys

from worker.local_endpoint.cli import main

sys.exit(main(sys.argv[1:]))
