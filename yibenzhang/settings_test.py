"""Test settings: the same as production code paths, with fast hashing and tasks run inline."""

from yibenzhang.settings import *  # noqa: F403
from yibenzhang.settings import BASE_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = BASE_DIR / ".test-media"
AXES_FAILURE_LIMIT = 5
LANGUAGE_CODE = "zh-hans"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
