"""The compiled parts: the relay sinks' usual reads (src/octopus/relay/_passsink.c) and an
upstream connection's pushed reads (src/octopus/upstream/_pushread.c).

Optional: without a C compiler the package installs as pure Python, and the Python sinks
(relay/fastsink.py) and Http1Connection.data_received (upstream/http1.py) serve every read.
"""

from setuptools import Extension, setup

FLAGS = ["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]

setup(
    ext_modules=[
        Extension(
            name,
            [path],
            include_dirs=["src/octopus"],  # _cpart.h: what both share
            depends=["src/octopus/_cpart.h"],
            extra_compile_args=FLAGS,
            optional=True,
        )
        for name, path in (
            ("octopus.relay._passsink", "src/octopus/relay/_passsink.c"),
            ("octopus.upstream._pushread", "src/octopus/upstream/_pushread.c"),
        )
    ]
)
