# One image for the app and the bot. CPU by default; CUDA: see docker-compose.gpu.yml
# (--build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 --build-arg ONNXRUNTIME=onnxruntime-gpu).
FROM python:3.11-slim
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG ONNXRUNTIME=onnxruntime
# libgomp1: torch and onnxruntime's OpenMP; libgl1 + libglib2.0-0: OpenCV (insightface's face alignment)
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN pip install --no-cache-dir torch==2.13.0 --index-url ${TORCH_INDEX}
COPY pyproject.toml README.md ./
COPY engine engine
COPY dashboard dashboard
COPY bot bot
COPY photoindex photoindex
RUN pip install --no-cache-dir . \
    && if [ "$ONNXRUNTIME" != onnxruntime ]; then \
         pip uninstall -y onnxruntime && pip install --no-cache-dir "$ONNXRUNTIME"; fi
ENV HOST=0.0.0.0 PORT=8000 DATA_DIR=/data PHOTOS_DIR=/photos
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=10s --start-period=120s --retries=10 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=5)"
CMD ["photoindex", "serve"]
