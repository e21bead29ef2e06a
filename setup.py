"""The one compiled part: the relay sinks' usual reads (src/octopus/relay/_passsink.c).

Optional: without a C compiler the package installs as pure Python and the Python sinks serve
every read (relay/fastsink.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "octopus.relay._passsink",
            ["src/octopus/relay/_passsink.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
            optional=True,
        )
    ]
)
