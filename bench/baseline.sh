#!/usr/bin/env bash
# Full baseline of a tree (default /usr/share, warm cache) by fim-agent, aide --init with the same
# attributes (p+i+n+u+g+s+m+c+sha256), and find | xargs -0 -P2 sha256sum, in one run; then an
# unchanged fim-agent rescan. Each is run RUNS times (default 3); the median wall time is compared.
# Targets: fim-agent <= 0.2x AIDE and <= 1.0x the sha256sum pipeline; rescan <= 0.1x the baseline.
source "$(dirname "$0")/common.sh"
TREE=${1:-/usr/share}
RUNS=${RUNS:-3}

echo "tree: $TREE ($(find "$TREE" -xdev | wc -l) entries, $(du -sh --apparent-size "$TREE" 2>/dev/null | cut -f1))"
find "$TREE" -xdev -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true   # warm the page cache

cat > "$WORK/aide.conf" <<CONF
database_out=file:$WORK/aide.db.new
gzip_dbout=no
report_url=stdout
FIM = p+i+n+u+g+s+m+c+sha256
$TREE FIM
CONF

declare -a fim aide sums rescan engine_base engine_rescan
for i in $(seq "$RUNS"); do
  rm -rf "$WORK/state" "$WORK/key" "$WORK/aide.db.new"   # a fresh install: the key's anchor would refuse a deleted baseline
  measure "fim-agent scan (baseline) #$i" "${AGENT[@]}" scan "$TREE" --state "$WORK/state" --key-file "$WORK/key/k"
  fim+=("$LAST_WALL"); engine_base+=("$(grep -o 'in [0-9.]* s' "$WORK/stderr.$$" | tail -n1 | tr -dc '0-9.')")
  measure "fim-agent scan (unchanged) #$i" "${AGENT[@]}" scan "$TREE" --state "$WORK/state" --key-file "$WORK/key/k"
  rescan+=("$LAST_WALL"); engine_rescan+=("$(grep -o 'in [0-9.]* s' "$WORK/stderr.$$" | tail -n1 | tr -dc '0-9.')")
  measure "aide --init #$i" aide --init -c "$WORK/aide.conf"
  aide+=("$LAST_WALL")
  measure "find|xargs -P2 sha256sum #$i" bash -c "find '$TREE' -xdev -type f -print0 | xargs -0 -P2 -n 500 sha256sum"
  sums+=("$LAST_WALL")
done

F=$(printf '%s\n' "${fim[@]}" | median); A=$(printf '%s\n' "${aide[@]}" | median)
S=$(printf '%s\n' "${sums[@]}" | median); R=$(printf '%s\n' "${rescan[@]}" | median)
EB=$(printf '%s\n' "${engine_base[@]}" | median); ER=$(printf '%s\n' "${engine_rescan[@]}" | median)
echo
echo "median wall: fim-agent baseline ${F}s, aide --init ${A}s, sha256sum pipeline ${S}s, fim-agent unchanged rescan ${R}s"
echo "baseline / aide            = $(ratio "$F" "$A")   (target <= 0.2)"
echo "baseline / sha256sum pipe  = $(ratio "$F" "$S")   (target <= 1.0)"
echo "rescan / baseline (process wall, incl. runtime start and baseline load) = $(ratio "$R" "$F")   (target <= 0.1)"
echo "rescan / baseline (scan engine, as the running agent's scheduled rescan) = $(ratio "$ER" "$EB")   (engine ${ER}s / ${EB}s)"
