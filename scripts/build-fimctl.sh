#!/usr/bin/env bash
# Publishes fimctl (native AOT unless --jit) and prints the path of what to run: see publish-native.sh.
exec "$(dirname "$0")/publish-native.sh" fimctl "$@"
