# Halqa: one image for web (daphne), the one-shot migrate and the retention worker.
# Secrets are never baked in: SECRET_KEY and HALQA_MASTER_KEYS come from the environment at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HALQA_VAR_DIR=/app/var

RUN groupadd --system halqa \
 && useradd --system --gid halqa --home-dir /app --no-create-home --shell /usr/sbin/nologin halqa

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them: install the project from
# pyproject.toml with empty package stubs, then drop the stubs (and the stub install).
COPY pyproject.toml README.md ./
RUN set -eux; \
    for pkg in server accounts rooms moderation web; do mkdir -p "$pkg" && touch "$pkg/__init__.py"; done; \
    pip install .; \
    pip uninstall --yes halqa; \
    rm -rf server accounts rooms moderation web build ./*.egg-info

# The code itself. The app runs from /app (manage.py puts it first on sys.path), where the
# templates, static files and locale live beside the code.
COPY . .
# Translations: every locale/*/LC_MESSAGES/*.po is compiled with Babel (a dependency: no system
# gettext), never taken as a .mo from the build context. Fuzzy entries are not compiled; a catalog
# whose header is still fuzzy would be skipped silently, so each .mo is checked to exist.
# collectstatic imports the settings, which would otherwise generate a secret key and a master
# key into var/: give it throwaway values that are used for nothing, and remove anything written.
RUN set -eux; \
    pip install --no-deps .; \
    rm -rf build ./*.egg-info; \
    find locale -name '*.mo' -delete; \
    pybabel compile --directory locale --domain django; \
    pybabel compile --directory locale --domain djangojs; \
    for po in locale/*/LC_MESSAGES/*.po; do test -s "${po%.po}.mo"; done; \
    SECRET_KEY=build-time-only-not-a-secret \
    HALQA_MASTER_KEYS=YnVpbGQtdGltZS1vbmx5LW5ldmVyLWEtcmVhbC1rZXk= \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL= \
      python manage.py collectstatic --noinput; \
    rm -f /tmp/build.sqlite3 "$HALQA_VAR_DIR/secret_key" "$HALQA_VAR_DIR/master_keys"; \
    chown -R halqa:halqa "$HALQA_VAR_DIR"

USER halqa
EXPOSE 8000

# daphne without an access log: client addresses are never written anywhere.
CMD ["python", "manage.py", "serve", "--host", "0.0.0.0", "--port", "8000"]
