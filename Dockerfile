FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng libespeak-ng1 espeak-ng-data \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ivr ivr
COPY scheduler scheduler
COPY prompts prompts
COPY grammars grammars
RUN pip install --no-cache-dir -e .
ENV IVR_CACHE_DIR=/var/cache/ivr
EXPOSE 8080
CMD ["ivr", "serve", "--host", "0.0.0.0", "--port", "8080"]
