# Sourced by the scripts: offline model loading, quiet libraries, one torch thread.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false
export GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export PATH="$PWD/.venv/bin:$PATH"
