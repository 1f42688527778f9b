#!/usr/bin/env bash
# Selfie-GAN on the shared data at 256² with w1 = 10 (CartoonGAN's content weight) instead of the
# paper's 0.01, same phases as h100_session.sh, to compare identity retention.
set -u
OUT=${OUT:-/tmp/out}
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 TOONKIT_WEIGHTS_DIR=$PWD/.gpudata/weights
D=.gpudata
timeout 160 python3 -m toonkit run recipes/selfie_gan.yaml --out /tmp/selfie -q \
  data.photos=$D/people/photos data.masks=$D/people/masks data.cartoons=$D/handpainted \
  data.workers=12 nets.feature.arch=vgg16 nets.feature.layer=conv4_3 method.w_content=10 \
  train.checkpoint_seconds=45 train.sample_every=150 2> $OUT/selfie_w10_train.log
echo "exit $?"; tail -2 $OUT/selfie_w10_train.log
cp /tmp/selfie/logs/losses.csv $OUT/selfie_gan_w10_losses.csv
cp "$(ls /tmp/selfie/samples/adversarial_*.png | tail -1)" $OUT/selfie_gan_w10_samples.png
# the same photos through the trained generator with the masker compositing over white
python3 -m toonkit translate /tmp/selfie $D/people/photos/1.jpg $D/people/photos/10.jpg -o $OUT/translated --background white 2>&1 | tail -2
