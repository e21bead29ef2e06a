FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN pip install --no-cache-dir -c constraints.txt . \
 && useradd --system --uid 1000 --home /app octopus \
 && mkdir -p /app/data && chown -R octopus /app
USER octopus
VOLUME ["/app/data"]
EXPOSE 8080
# /readyz: database reachable and catalog loaded (no curl in the slim image: the interpreter asks)
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8080/readyz', timeout=2).status != 200)"]
CMD ["octopus", "start"]
