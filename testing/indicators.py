"""核酸检测: indicators of mass-testing rounds; routine testing (testing.routine) registers its own beside them."""

import testing.routine.indicators  # noqa: F401
