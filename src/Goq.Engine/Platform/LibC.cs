using System.Runtime.InteropServices;

namespace Goq.Platform;

/// <summary>The few libc calls the Linux job launcher and the server's folder syncs need (glibc on x86-64 and arm64).</summary>
internal static unsafe class LibC
{
    public const int OCloexec = 0x80000;
    public const int ORdonly = 0;
    public const int OWronly = 1;
    public const int OCreat = 0x40;
    public const int OAppend = 0x400;
    public const int SeekEnd = 2;
    public const int SeekCur = 1;
    public const short PosixSpawnSetSigDef = 0x04;
    public const short PosixSpawnSetSigMask = 0x08;
    public const short PosixSpawnSetSid = 0x80;
    public const int SigKill = 9;
    public const int Eintr = 4;
    public const int Echild = 10;
    public const int Enoexec = 8;
    public const int Eagain = 11;
    public const int Wnohang = 1;
    public const long SysPidfdOpen = 434;
    public const short PollIn = 0x1;
    public const short PollErr = 0x8;
    public const short PollHup = 0x10;
    public const short PollNval = 0x20;

    /// <summary>Opaque glibc structures, allocated larger than glibc's (80, 336 and 128 bytes).</summary>
    public const int OpaqueSize = 1024;

    [DllImport("libc", SetLastError = true)]
    public static extern int poll(PollFd* fds, nuint nfds, int timeout);

    [DllImport("libc", SetLastError = true)]
    public static extern nint read(int fd, byte* buf, nint count);

    [DllImport("libc", SetLastError = true)]
    public static extern nint write(int fd, byte* buf, nint count);

    [DllImport("libc", SetLastError = true)]
    public static extern int pipe2(int* fds, int flags);

    public const int AfUnix = 1;
    public const int SockStream = 1;

    [DllImport("libc", SetLastError = true)]
    public static extern int socketpair(int domain, int type, int protocol, int* fds);

    [DllImport("libc", SetLastError = true)]
    public static extern int open(byte* path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    public static extern long lseek(int fd, long offset, int whence);

    [DllImport("libc", SetLastError = true)]
    public static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    public static extern int ftruncate(int fd, long length);

    [DllImport("libc", SetLastError = true)]
    public static extern int kill(int pid, int sig);

    [DllImport("libc", SetLastError = true)]
    public static extern int waitpid(int pid, int* status, int options);

    /// <summary>waitpid that also fills in what the child (and the descendants it waited for) used.</summary>
    [DllImport("libc", SetLastError = true)]
    public static extern int wait4(int pid, int* status, int options, Rusage* usage);

    /// <summary>Linux's struct rusage on 64-bit targets: two timevals, then fourteen longs (ru_maxrss in KiB).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Rusage
    {
        public long UserSec;
        public long UserMicros;
        public long SystemSec;
        public long SystemMicros;
        public long MaxRssKiB;
        private fixed long _rest[13];
    }

    [DllImport("libc", SetLastError = true)]
    public static extern long syscall(long number, long arg1, long arg2);

    [DllImport("libc")]
    public static extern int posix_spawn_file_actions_init(void* actions);

    [DllImport("libc")]
    public static extern int posix_spawn_file_actions_destroy(void* actions);

    [DllImport("libc")]
    public static extern int posix_spawn_file_actions_adddup2(void* actions, int fd, int newfd);

    [DllImport("libc")]
    public static extern int posix_spawn_file_actions_addchdir_np(void* actions, byte* path);

    [DllImport("libc")]
    public static extern int posix_spawnattr_init(void* attr);

    [DllImport("libc")]
    public static extern int posix_spawnattr_destroy(void* attr);

    [DllImport("libc")]
    public static extern int posix_spawnattr_setflags(void* attr, short flags);

    [DllImport("libc")]
    public static extern int posix_spawnattr_setsigmask(void* attr, void* sigset);

    [DllImport("libc")]
    public static extern int posix_spawnattr_setsigdefault(void* attr, void* sigset);

    [DllImport("libc")]
    public static extern int sigemptyset(void* set);

    [DllImport("libc")]
    public static extern int sigfillset(void* set);

    [DllImport("libc")]
    public static extern int posix_spawn(int* pid, byte* path, void* actions, void* attr, byte** argv, byte** envp);

    [DllImport("libc")]
    public static extern nint strerror(int errnum);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public static string ErrorText(int errno) => Marshal.PtrToStringUTF8(strerror(errno)) ?? $"errno {errno}";
}
