using StackExchange.Redis;

namespace Quiz.Ranking;

/// <summary>
/// The KEYS of one script call, each named once: a batch's rounds or lookups refer to their keys by
/// number (Lua's KEYS are 1-based). A batch of finishes or counts names over a hundred unit and
/// organisation boards, so the numbers are kept in a dictionary rather than searched for.
/// </summary>
sealed class ScriptKeys
{
    readonly List<RedisKey> keys;
    readonly Dictionary<RedisKey, int> numbers = [];

    /// <summary>Starts with <paramref name="fixedKeys"/> as KEYS[1..n], which the script reads by position.</summary>
    public ScriptKeys(params RedisKey[] fixedKeys) => keys = [.. fixedKeys];

    /// <summary>The key's 1-based number in KEYS, adding it on first use.</summary>
    public int Number(RedisKey key)
    {
        if (!numbers.TryGetValue(key, out var n))
        {
            keys.Add(key);
            numbers.Add(key, n = keys.Count);
        }
        return n;
    }

    public RedisKey[] ToArray() => [.. keys];
}
