# The shim's link script, made from the toolchain's default one for shared
# objects (what `$(CC) -shared -Wl,--verbose` prints): the read-only data
# (.rodata, .eh_frame ...) moved from a segment of its own to the first
# one, with the ELF headers and symbol tables.  Three mappings instead of
# four, in every program that loads the library: one mmap and one page
# fault fewer (8 us of every exec here).  The code stays on pages of its
# own (-z separate-code) and RELRO as it was.  Prints nothing and fails
# when the script is not the expected shape: the Makefile then links with
# the default layout.
/^==================================================/ { inside = !inside; next }
inside { line[++n] = $0 }
END {
    for (i = 1; i <= n; i++) {
        if (!code && line[i] ~ /^ *\.init *:/)
            code = i
        if (!rodata && line[i] ~ /SEGMENT_START *\( *"rodata-segment"/)
            rodata = i
        if (!data && line[i] ~ /DATA_SEGMENT_ALIGN/)
            data = i
    }
    # the code starts on a page of its own: the ALIGN right before .init
    if (!code || !(code < rodata && rodata < data) || line[code - 1] !~ /ALIGN *\( *CONSTANT *\( *MAXPAGESIZE *\) *\)/)
        exit 1
    for (i = 1; i < code - 1; i++)
        print line[i]
    for (i = rodata + 1; i < data; i++)
        print line[i]
    for (i = code - 1; i < rodata; i++)
        print line[i]
    for (i = data; i <= n; i++)
        print line[i]
}
