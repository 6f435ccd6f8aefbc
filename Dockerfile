# funding-monitor as a container: `docker run -v ./rules:/rules -v monitor-data:/data IMAGE`
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MONITOR_DATABASE_URL=sqlite:////data/monitor.db \
    MONITOR_RULES=/rules \
    MONITOR_HTTP_ADDR=0.0.0.0:9108

WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip install '.[postgres]' \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin monitor \
    && mkdir -p /data /rules \
    && chown monitor:monitor /data
COPY --chown=monitor:monitor rules /rules

USER monitor
VOLUME ["/rules", "/data"]
EXPOSE 9108
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9108/healthz', timeout=4).status == 200 else 1)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["monitor"]
CMD ["run"]
