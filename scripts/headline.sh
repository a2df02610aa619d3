#!/bin/bash
# Re-runs the headline studies (mnist with its solver check, fashion, disinhibition, robustness)
# from ONE clean commit's binary, so that every headline page names exactly one commit; with
# --diagnostics, the diagnostic screens instead (mnist_long, disinhibition_3epochs, mnist_fa,
# mnist_tracking, fashion_screen, fashion_seeds, fashion_frozen, mnist_screen, mnist_anneal, fashion_anneal). The binary is built once per commit into target/headline/<commit>/ and
# reused: an interrupted run resumes run by run (`--resume`) in a later session.
#
#   scripts/headline.sh                 # HEAD (the tree must be clean)
#   COMMIT=d1649ed scripts/headline.sh  # an earlier commit, built in a git worktree
#   scripts/headline.sh --diagnostics
#   COMMIT=d1649ed scripts/headline.sh --build   # only build (or find) that commit's binary
#
# Pages are rendered afterwards by `dendritic report <names>` (any later binary reads them).
set -euo pipefail
cd "$(dirname "$0")/.."
head=$(git rev-parse --short HEAD)
commit=${COMMIT:-$head}
dir=target/headline/$commit
bin=$dir/dendritic
if [ ! -x "$bin" ]; then
    mkdir -p "$dir"
    if [ "$commit" = "$head" ]; then
        if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
            echo "headline: the tree has uncommitted changes; commit them, or set COMMIT" >&2
            exit 1
        fi
        cargo build --release
        cp target/release/dendritic "$bin"
    else
        wt=$(mktemp -d)
        build="$PWD/target/headline/build"
        git worktree add --detach "$wt" "$commit"
        (cd "$wt" && CARGO_TARGET_DIR="$build" cargo build --release)
        cp "$build/release/dendritic" "$bin"
        git worktree remove --force "$wt"
    fi
fi
echo "headline: $("$bin" --version)"
case "${1:-}" in
    --build)
        ;;
    --diagnostics)
        "$bin" run scenarios/mnist_long.toml --resume
        "$bin" run scenarios/disinhibition_3epochs.toml --resume
        "$bin" run scenarios/mnist_fa.toml --resume
        "$bin" run scenarios/mnist_tracking.toml --resume
        "$bin" run scenarios/fashion_screen.toml --resume
        "$bin" run scenarios/fashion_seeds.toml --resume
        "$bin" run scenarios/fashion_frozen.toml --resume
        "$bin" run scenarios/mnist_screen.toml --resume
        "$bin" run scenarios/mnist_anneal.toml --resume
        "$bin" run scenarios/fashion_anneal.toml --resume
        ;;
    "")
        "$bin" run mnist --resume
        "$bin" run scenarios/mnist_solvers.toml --resume
        "$bin" run fashion --resume
        "$bin" run disinhibition --resume
        "$bin" run robustness --resume
        "$bin" speedup robustness --runs 4
        ;;
    *)
        echo "headline: unknown option $1 (none, --diagnostics or --build)" >&2
        exit 1
        ;;
esac
