"""`python -m htlm.pipeline ...` runs the Beam job (same as `htlm-pipeline`)."""

import sys

from htlm.pipeline.beam.job import main

sys.exit(main())
