#!/usr/bin/env bash
# One GPU session: real Selfie-GAN training on the shared data (256², bf16), the performance record on
# CUDA, and a torchrun/NCCL run. Expects the data resized under .gpudata/ (people photos + masks,
# hand-painted cartoons, VGG16 features up to conv4_3) and the wheels the GPU image lacks under .whl/.
set -u
OUT=${OUT:-/tmp/out}
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 TOONKIT_WEIGHTS_DIR=$PWD/.gpudata/weights
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
D=.gpudata
# 1) Selfie-GAN with the paper's w1 = 0.01 and phase lengths (1 / 20 / 20 epochs) at 256², batch 8
timeout 150 python3 -m toonkit run recipes/selfie_gan_paper.yaml --out /tmp/selfie -q \
  data.photos=$D/people/photos data.masks=$D/people/masks data.cartoons=$D/handpainted \
  data.workers=12 nets.feature.arch=vgg16 nets.feature.layer=conv4_3 \
  train.checkpoint_seconds=45 train.sample_every=150 2> $OUT/selfie_train.log
echo "selfie_gan exit $?"
cp /tmp/selfie/logs/losses.csv $OUT/selfie_gan_losses.csv
ls /tmp/selfie/samples | tail -4
last=$(ls /tmp/selfie/samples/adversarial_*.png 2>/dev/null | tail -1); [ -n "$last" ] && cp "$last" $OUT/selfie_gan_samples.png
m=$(ls /tmp/selfie/samples/masker_*.png 2>/dev/null | tail -1); [ -n "$m" ] && cp "$m" $OUT/selfie_gan_masker_samples.png
# 2) torchrun + NCCL (one process per GPU; here one GPU)
timeout 45 torchrun --standalone --nproc_per_node 1 -m toonkit run recipes/quickstart.yaml --out /tmp/ddp -q \
  train.phases.init.steps=3 train.phases.masker.steps=3 train.phases.adversarial.steps=3 > $OUT/ddp.log 2>&1
echo "torchrun nccl exit $?"; grep -i -E "nccl|error|run directory" $OUT/ddp.log | head -5
# 3) performance record on CUDA
timeout 110 python3 benchmarks/perf.py --device cuda --out $OUT/perf_cuda.md --json $OUT/perf_cuda.json 2>&1 | tail -30
