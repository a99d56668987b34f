// Anti-virus test files. Written for Bulwark from the public definitions of the test files;
// the patterns are hex so that this file is not itself an anti-virus test file.

rule EICAR_Test_File
{
    meta:
        title = "EICAR anti-virus test file"
        severity = "high"
        description = "The 68-byte EICAR test string at the start of a file of at most 128 bytes, followed only by the whitespace the EICAR definition allows (space, tab, CR, LF, Ctrl-Z)"
    strings:
        $eicar = { 58 35 4F 21 50 25 40 41 50 5B 34 5C 50 5A 58 35 34 28 50 5E 29 37 43 43 29 37 7D 24
                   45 49 43 41 52 2D 53 54 41 4E 44 41 52 44 2D 41 4E 54 49 56 49 52 55 53 2D 54 45 53
                   54 2D 46 49 4C 45 21 24 48 2B 48 2A }
    condition:
        $eicar at 0 and filesize <= 128 and (
            filesize == 68 or
            for all i in (68 .. filesize - 1) : (
                uint8(i) == 0x20 or uint8(i) == 0x09 or uint8(i) == 0x0A or uint8(i) == 0x0D or uint8(i) == 0x1A
            )
        )
}

rule EICAR_Test_String
{
    meta:
        title = "EICAR anti-virus test string embedded in a larger file"
        severity = "medium"
    strings:
        $eicar = { 58 35 4F 21 50 25 40 41 50 5B 34 5C 50 5A 58 35 34 28 50 5E 29 37 43 43 29 37 7D 24
                   45 49 43 41 52 2D 53 54 41 4E 44 41 52 44 2D 41 4E 54 49 56 49 52 55 53 2D 54 45 53
                   54 2D 46 49 4C 45 21 24 48 2B 48 2A }
    condition:
        $eicar and not EICAR_Test_File
}

rule ClamAV_Test_File
{
    meta:
        title = "ClamAV test binary (clam.exe, the harmless file of the clamav-testfiles package)"
        severity = "high"
        description = "The 544-byte PE whose MD5 is aa15bcf478d165efd2065190eb473bcb: its decoder stub, its [CLAMAV] section name and its CLAMessageBoxA import"
    strings:
        // The entry stub that decodes the message at run time.
        $stub = { BB 71 10 40 00 33 C0 50 50 8B F3 53 53 50 B0 29 40 30 04 66 AC 79 F9 BA 31 00 78 0D AD 50 FF 66 }
        $section = "[CLAMAV]"
        $import = "CLAMessageBoxA"
    condition:
        uint16(0) == 0x5A4D and 2 of them
}
