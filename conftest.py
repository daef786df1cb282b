"""Run the test suite, notebooks included, in the course's quick mode.

Kernels that nbval starts inherit this environment, so notebooks see it too.
"""

import os

os.environ.setdefault("GAN_COURSE_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
