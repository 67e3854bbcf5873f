"""核酸检测: demo of mass-testing rounds; routine testing (testing.routine) registers its own beside them."""

import testing.routine.demo  # noqa: F401
