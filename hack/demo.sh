#!/usr/bin/env bash
# make demo: the whole job on the showcase repository (examples/acme), as a
# platform team runs it: validate, test the policies and the routes,
# explain a request, review a change with diff, compile, deliver to a
# directory Envoy watches, and render for Kubernetes. Everything it writes is under out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${EDGECTL:-bin/edgectl}
out=out/demo
rm -rf "$out" && mkdir -p "$out"

if [[ -t 1 && -z ${NO_COLOR:-} ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
run() { step "$*"; "$@"; }

run "$bin" validate examples/acme
run "$bin" policy test examples/acme
run "$bin" test examples/acme --coverage
# Where does a beta tester's order go, and why not to the routes before it?
step "$bin explain examples/acme https://api.acme.io/v1/orders -H 'x-acme-beta: true'"
"$bin" explain examples/acme https://api.acme.io/v1/orders -H 'x-acme-beta: true'

# A pull request: the shop team moves its canary from 5% to 25%. The
# routing repository is a git repository of its own, made here.
repo=$out/routing
cp -r examples/acme "$repo"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=demo -c user.email=demo@example.com commit -q -m "routing as merged"
sed -i 's/{name: shop-api, weight: 95}/{name: shop-api, weight: 75}/; s/{name: shop-api-v2, weight: 5}/{name: shop-api-v2, weight: 25}/' "$repo/teams/shop/api.yaml"
step "$bin diff $repo --against main      # what the pull request does to traffic"
"$bin" diff "$repo" --against main --cache-dir "$out/cache"
# The shop team's route tests pin the split: they fail until the pull
# request updates them too.
step "$bin test $repo --run canary      # the route tests still expect 95/5"
"$bin" test "$repo" --run canary || true
sed -i 's/weights: {shop-api: 95, shop-api-v2: 5}/weights: {shop-api: 75, shop-api-v2: 25}/' "$repo/teams/shop/tests/api.yaml"
run "$bin" test "$repo" --run canary

# Reviewed and merged; CI compiles what was merged and delivers it. (On a
# real host the target is the bootstrap's /etc/envoy/xds.)
git -C "$repo" -c user.name=demo -c user.email=demo@example.com commit -q -am "shop: canary to 25%"
run "$bin" compile "$repo" --out-dir "$out/bundles"
run "$bin" push "$out/bundles/edge" --to "file://$PWD/$out/xds"
run "$bin" push "$out/bundles/edge" --to "file://$PWD/$out/xds"
run "$bin" status --to "file://$PWD/$out/xds"
step "ls -l $out/xds      # what Envoy reads: links through ..data, swapped atomically"
ls -l "$out/xds" | sed -n '1,8p'

step "$bin render $repo --envoy --namespace edge | grep -E '^(kind|  name):'"
"$bin" render "$repo" --envoy --namespace edge 2>/dev/null | grep -E '^(kind|  name):'
step "$bin bootstrap $out/bundles/edge --ads xds.edge.svc:18000 | sed -n '/dynamic_resources/,\$p'"
"$bin" bootstrap "$out/bundles/edge" --ads xds.edge.svc:18000 | sed -n '/dynamic_resources/,$p'
