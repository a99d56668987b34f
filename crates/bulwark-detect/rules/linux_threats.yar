// Linux threats commonly planted in container images. Written for Bulwark from public
// descriptions of these tools (their documented command lines, config keys and source
// identifiers); every rule needs two independent indicators unless one is unambiguous.

rule Linux_CoinMiner_Pool_Config
{
    meta:
        title = "Cryptocurrency miner configuration: stratum pool URL with XMRig-style options"
        severity = "high"
    strings:
        $url_tcp = "stratum+tcp://" nocase
        $url_ssl = "stratum+ssl://" nocase
        $url_tls = "stratum+tls://" nocase
        $opt_donate_json = "\"donate-level\""
        $opt_donate_cli = "--donate-level"
        $opt_randomx = "\"randomx\""
        $opt_nicehash = "\"nicehash\""
        $opt_rig_id = "\"rig-id\""
        $opt_algo = /--algo[= ](rx\/0|cn\/|randomx|cryptonight)/
        $opt_threads = "\"max-threads-hint\""
    condition:
        any of ($url_*) and any of ($opt_*)
}

rule Linux_CoinMiner_XMRig_Binary
{
    meta:
        title = "XMRig cryptocurrency miner binary"
        severity = "high"
    strings:
        $banner = "XMRig/" ascii
        $site = "xmrig.com" ascii
        $donate = "donate.v2.xmrig.com" ascii
        $opt = "--donate-level" ascii
        $rx = "randomx" ascii
    condition:
        (uint32(0) == 0x464C457F or uint16(0) == 0x5A4D) and ($donate or ($banner and 2 of ($site, $opt, $rx)))
}

rule Linux_Reverse_Shell_Command
{
    meta:
        title = "Reverse shell command line (shell bound to a network socket)"
        severity = "critical"
    strings:
        $devtcp = /(bash|sh|zsh|ksh)\s+-i\s*[0-9]?>&\s*\/dev\/(tcp|udp)\/[^\s\/]{1,255}\/[0-9]{1,5}/
        $devtcp_exec = /exec\s+[0-9]{1,2}<>\s*\/dev\/(tcp|udp)\//
        $nc_exec = /\b(nc|ncat|netcat|nc\.traditional)\s+(-[a-z]+\s+)*-e\s+\/bin\/(ba)?sh\b/
        $fifo = /mkfifo\s+\/tmp\/[^;|]{1,64};\s*cat\s+\/tmp\/[^|]{1,64}\|\s*\/bin\/(ba)?sh\s+-i/
        $socat = /socat\s+[^\n]{0,80}exec:['"]?(bash|sh|\/bin\/sh|\/bin\/bash)[^\n]{0,40}pty/ nocase
        $php = /fsockopen\s*\([^)]{1,200}\)\s*;\s*(exec|shell_exec|system|passthru|proc_open)\s*\(\s*['"]\/bin\/(ba)?sh\s+-i/
    condition:
        any of them
}

rule Linux_Reverse_Shell_Python
{
    meta:
        title = "Python reverse shell: socket connected back, file descriptors duplicated, pty spawned"
        severity = "critical"
    strings:
        $socket = "socket.socket("
        $connect = ".connect(("
        $dup2 = "os.dup2("
        $pty = "pty.spawn("
        $shell = "/bin/sh"
        $bash = "/bin/bash"
    condition:
        filesize < 64KB and $socket and $connect and $dup2 and ($pty or $shell or $bash)
}

rule Linux_Reverse_Shell_Perl
{
    meta:
        title = "Perl reverse shell: socket connected back and standard streams redirected to it"
        severity = "critical"
    strings:
        $socket = "socket(S,PF_INET,SOCK_STREAM"
        $stdin = "open(STDIN,\">&S\")"
        $exec = /exec\s*\(\s*["']\/bin\/(ba)?sh\s+-i/
    condition:
        filesize < 64KB and $socket and $stdin and $exec
}

rule Web_Shell_PHP_Request_Eval
{
    meta:
        title = "PHP web shell: request parameters passed to code or command execution"
        severity = "critical"
    strings:
        $direct = /\b(eval|assert|system|passthru|shell_exec|popen|proc_open|pcntl_exec)\s*\(\s*@?\$_(GET|POST|REQUEST|COOKIE)\s*\[/ nocase
        $decoded = /\b(eval|assert)\s*\(\s*@?(base64_decode|gzinflate|gzuncompress|str_rot13|hex2bin)\s*\(\s*@?\$_(GET|POST|REQUEST|COOKIE)\s*\[/ nocase
        $backtick = /`\s*\$_(GET|POST|REQUEST)\s*\[[^\]]{1,40}\]\s*`/
    condition:
        filesize < 1MB and any of them
}

rule Web_Shell_JSP_Request_Exec
{
    meta:
        title = "JSP web shell: request parameter executed as a command"
        severity = "critical"
    strings:
        $exec = /Runtime\.getRuntime\(\)\.exec\(\s*request\.getParameter\(/
    condition:
        filesize < 1MB and $exec
}

rule Linux_Rootkit_LD_Preload_Writer
{
    meta:
        title = "Script that installs a library into /etc/ld.so.preload (user-mode rootkit persistence)"
        severity = "high"
    strings:
        $redirect = /(>|>>|tee\s+(-a\s+)?)\s*\/etc\/ld\.so\.preload/
    condition:
        filesize < 1MB and uint32(0) != 0x464C457F and $redirect
}

rule Linux_Rootkit_LD_Preload_Hider
{
    meta:
        title = "Shared library hooking directory listing through the dynamic loader (process/file hiding rootkit)"
        severity = "high"
    strings:
        $preload = "/etc/ld.so.preload"
        $dlsym = "dlsym"
        $readdir = "readdir"
        $filter = "process_to_filter"
        $proc = "/proc/self/fd/%d"
    condition:
        uint32(0) == 0x464C457F and $dlsym and $readdir and ($filter or ($preload and $proc))
}

rule Linux_Rootkit_Known_Families
{
    meta:
        title = "Identifiers of public Linux rootkits (Diamorphine, Reptile, Jynx2, Azazel, libprocesshider)"
        severity = "critical"
    strings:
        $diamorphine_1 = "diamorphine_secret"
        $diamorphine_2 = "diamorphine_init"
        $diamorphine_3 = "diamorphine_cleanup"
        $reptile_1 = "/reptile/reptile_cmd"
        $reptile_2 = "reptile_shell"
        $reptile_3 = "reptile_module"
        $jynx_1 = "XxJynx"
        $jynx_2 = "jynx2.so"
        $azazel_1 = "azazel.so"
        $azazel_2 = "HIDE_PORT"
        $phider_1 = "process_to_filter"
        $phider_2 = "libprocesshider"
    condition:
        2 of ($diamorphine_*) or 2 of ($reptile_*) or 2 of ($jynx_*) or all of ($azazel_*) or all of ($phider_*)
}
