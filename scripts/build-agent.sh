#!/usr/bin/env bash
# Publishes fim-agent (native AOT unless --jit) and prints the path of what to run: see publish-native.sh.
exec "$(dirname "$0")/publish-native.sh" agent "$@"
