using System.Runtime.CompilerServices;

namespace Serving.Worker.Transport;

/// <summary>
/// On a Tcp runner endpoint a connection's hello must carry host.json's runnerSecret: any local
/// process can reach a loopback port, only the host's own workers know the secret.
/// </summary>
internal static class SecretCheck
{
    /// <summary>Compares in time independent of where the two differ.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.NoOptimization)]
    public static bool Matches(ReadOnlySpan<byte> offered, ReadOnlySpan<byte> expected)
    {
        var diff = offered.Length ^ expected.Length;
        for (var i = 0; i < expected.Length; i++)
        {
            var b = i < offered.Length ? offered[i] : 0;
            diff |= b ^ expected[i];
        }
        return diff == 0;
    }
}
