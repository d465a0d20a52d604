# One image for the gateway and the backend; the command picks the service.
FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY werkplek ./werkplek
COPY gateway ./gateway
COPY backend ./backend
COPY dashboards ./dashboards
COPY firmware ./firmware
COPY tests/contracts ./tests/contracts
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/werkplek werkplek \
    && mkdir -p /var/lib/werkplek && chown werkplek /var/lib/werkplek
USER werkplek
EXPOSE 8000
CMD ["werkplek", "backend"]
