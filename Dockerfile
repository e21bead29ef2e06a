FROM python:3.11-slim
WORKDIR /app
# tzdata: TZ (and OCTOPUS_TIMEZONE) can name any zone
RUN apt-get update && apt-get install -y --no-install-recommends tzdata \
 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml setup.py constraints.txt README.md ./
COPY src ./src
# gcc builds the compiled passthrough sink (setup.py), then goes
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
 && pip install --no-cache-dir -c constraints.txt . \
 && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 1000 --home /app octopus \
 && mkdir -p /app/data && chown -R octopus /app
COPY docker/entrypoint.sh /entrypoint.sh
# starts as root only to fix ./data's ownership, then runs as PUID:PGID (default 1000:1000)
ENV PUID=1000 PGID=1000
VOLUME ["/app/data"]
EXPOSE 8080
# /readyz: database reachable and catalog loaded (no curl in the slim image: the interpreter asks)
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8080/readyz', timeout=2).status != 200)"]
ENTRYPOINT ["/entrypoint.sh"]
CMD ["octopus", "start"]
