using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Serving.Shared;

/// <summary>
/// Linux: makes a listening TCP socket drop new handshakes — a classic BPF socket filter that drops a
/// SYN without ACK — while handshakes already under way complete and are accepted as usual.
/// </summary>
/// <remarks>
/// Closing a listener resets the connections in its accept queue and those half way through their
/// handshake, whose clients may already have sent a request: a reset after send. With new SYNs dropped
/// for a moment first (while the socket is still being accepted from), both queues empty before the
/// close; a client whose SYN was dropped retransmits it about a second later and is then refused, the
/// socket being closed by then: refused, never reset. The filter is on the socket, so it holds for
/// every process sharing it — attach it only when all of them are stopping. Connections accepted later
/// inherit it, and it never matches their packets (an established connection receives no bare SYN).
/// One file, linked into the supervisor (Serving.Runtime) and the worker (Serving.Worker).
/// </remarks>
internal static class ListenerSynFilter
{
    /// <summary>
    /// How long to drop new handshakes before closing: handshakes under way need one round trip to
    /// complete and a moment more to be accepted.
    /// </summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(200);

    /// <summary>The settle for a drain of <paramref name="drain"/>: <see cref="Settle"/>, at most a quarter of the drain.</summary>
    public static TimeSpan SettleWithin(TimeSpan drain) => drain / 4 < Settle ? drain / 4 : Settle;

    /// <summary>Attaches the filter; false when it cannot be (not Linux, not a TCP socket, an error).</summary>
    public static bool TryAttach(Socket socket)
    {
        if (!OperatingSystem.IsLinux() || socket.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            return false;
        const int SOL_SOCKET = 1, SO_ATTACH_FILTER = 26;
        ReadOnlySpan<ulong> program =
        [
            Instruction(0x30, 0, 0, 13),          // BPF_LD | BPF_B | BPF_ABS: the TCP flags byte (offset 13 of the TCP header)
            Instruction(0x54, 0, 0, 0x12),        // BPF_ALU | BPF_AND | BPF_K: keep SYN and ACK
            Instruction(0x15, 0, 1, 0x02),        // BPF_JMP | BPF_JEQ | BPF_K: SYN without ACK?
            Instruction(0x06, 0, 0, 0),           // BPF_RET: drop
            Instruction(0x06, 0, 0, 0xFFFFFFFF),  // BPF_RET: accept the whole packet
        ];
        var memory = Marshal.AllocHGlobal(program.Length * sizeof(ulong));
        try
        {
            for (var i = 0; i < program.Length; i++)
                Marshal.WriteInt64(memory, i * sizeof(ulong), (long)program[i]);
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the kernel copies the program.
            Span<byte> fprog = stackalloc byte[16];
            fprog.Clear();
            BitConverter.TryWriteBytes(fprog, (ushort)program.Length);
            BitConverter.TryWriteBytes(fprog[8..], memory.ToInt64());
            socket.SetRawSocketOption(SOL_SOCKET, SO_ATTACH_FILTER, fprog);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Without the filter a close is as before: a rare reset, never a failure to stop.
            return false;
        }
        finally
        {
            Marshal.FreeHGlobal(memory);
        }
    }

    /// <summary>struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } as one little-endian word.</summary>
    private static ulong Instruction(ushort code, byte jumpTrue, byte jumpFalse, uint k) =>
        code | ((ulong)jumpTrue << 16) | ((ulong)jumpFalse << 24) | ((ulong)k << 32);
}
