# CPU image by default; for CUDA build with --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128
FROM python:3.11-slim
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN pip install --no-cache-dir torch==2.13.0 --index-url ${TORCH_INDEX}
COPY pyproject.toml README.md ./
COPY engine engine
COPY dashboard dashboard
COPY bot bot
COPY photoindex photoindex
COPY sql sql
RUN pip install --no-cache-dir -e .
ENV HOST=0.0.0.0 PORT=8000 DATA_DIR=/data PHOTOS_DIR=/photos
EXPOSE 8000
CMD ["photoindex", "serve"]
