from django.contrib.staticfiles.apps import StaticFilesConfig


class YbzStaticFilesConfig(StaticFilesConfig):
    # node_modules dist folders carry source maps and module builds we never serve.
    ignore_patterns = [
        *StaticFilesConfig.ignore_patterns,
        "*.esm.*",
        "*.mjs",
        "*.ts",
        "*.scss",
        "*.cjs.js",
        "*.amd.js",
        "*.common.*",
        "*.simple.*",
        "extension",
        "ext",
        "*.gz",
        "*.json",
        "bootstrap-grid*",
        "bootstrap-reboot*",
        "bootstrap-utilities*",
        "*.rtl.*",
    ]
