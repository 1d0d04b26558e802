# Sourced by serve_load.sh and serve_soak.sh: the model repository they serve, in $work/models/$name.
# ARCH unset: the tiny random-weight AnomalyCLIP fixture (Tests/AnomalyCLIPTests/Fixtures, 56 px, 3 layers + DPAM);
# ARCH set (e.g. ViT-B-16): that bundled architecture with random weights and random prompts (`clipad bench
# checkpoint`), AnomalyCLIP at the backbone's defaults. Sets name, spec and method_args (the same model for
# `clipad predict`).
make_model_repository() {
  if [[ -z ${ARCH:-} ]]; then
    name=tiny
    local fixtures=$PWD/Tests/AnomalyCLIPTests/Fixtures
    spec="{\"method\": \"anomalyclip\", \"clip\": \"$fixtures/tiny_clip.safetensors\", \"prompts\": \"$fixtures/prompts_official.pth\",
 \"activation\": \"quick-gelu\", \"image_size\": 56, \"layers\": [1, 2, 4], \"dpam_blocks\": 3}"
    method_args=(--clip "$fixtures/tiny_clip.safetensors" --prompts "$fixtures/prompts_official.pth" --activation quick-gelu
                 --image-size 56 --layers 1,2,4 --dpam-blocks 3)
  else
    name=arch
    "$clipad" bench checkpoint --arch "$ARCH" --output "$work/weights" >&2
    spec="{\"method\": \"anomalyclip\", \"clip\": \"$work/weights/clip.safetensors\", \"prompts\": \"$work/weights/prompts.safetensors\"}"
    method_args=(--clip "$work/weights/clip.safetensors" --prompts "$work/weights/prompts.safetensors")
  fi
  mkdir -p "$work/models/$name"
  echo "$spec" >"$work/models/$name/spec.json"
}
