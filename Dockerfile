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
CMD ["octopus", "start"]
