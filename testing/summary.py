"""核酸检测: summary of mass-testing rounds; routine testing (testing.routine) registers its own beside them."""

import testing.routine.summary  # noqa: F401
