# Helpers for bench sections: source it.
# median_min_max < numbers  → "median (min–max)"
median_min_max() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.3g (%.3g–%.3g)\n", m, v[1], v[NR] }'
}
# peak_rss_mb cmd... : runs cmd under /usr/bin/time, prints its peak RSS in MB on fd 3
peak_rss_mb() {
    local f; f=$(mktemp)
    /usr/bin/time -f '%M' -o "$f" "$@"
    awk '{ printf "%.0f\n", $1 / 1024 }' "$f" >&3
    rm -f "$f"
}
