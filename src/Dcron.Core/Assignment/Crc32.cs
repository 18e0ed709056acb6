namespace DistributedCron;

/// <summary>
/// CRC-32/IEEE (the zlib and Go <c>hash/crc32</c> checksum: reflected polynomial 0xEDB88320, init and xorout
/// 0xFFFFFFFF), table-driven. Text is hashed over its UTF-8 bytes, encoded on the fly without allocating
/// (a lone surrogate counts as U+FFFD, as <see cref="System.Text.Encoding.UTF8"/> encodes it).
/// </summary>
internal static class Crc32
{
    /// <summary>The running state before any byte.</summary>
    public const uint Seed = 0xFFFFFFFFu;

    private static readonly uint[] Table = BuildTable();

    /// <summary>The checksum of the UTF-8 bytes of <paramref name="text"/>.</summary>
    public static uint Compute(ReadOnlySpan<char> text) => Finish(Append(Seed, text));

    /// <summary>The checksum of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Seed, data));

    /// <summary>Turns a running state into the checksum.</summary>
    public static uint Finish(uint state) => ~state;

    /// <summary>Continues a running state over <paramref name="data"/>.</summary>
    public static uint Append(uint state, ReadOnlySpan<byte> data)
    {
        var table = Table;
        foreach (var b in data)
        {
            state = table[(byte)(state ^ b)] ^ (state >> 8);
        }

        return state;
    }

    /// <summary>Continues a running state over the UTF-8 bytes of <paramref name="text"/>.</summary>
    public static uint Append(uint state, ReadOnlySpan<char> text)
    {
        var table = Table;
        for (var i = 0; i < text.Length; i++)
        {
            int c = text[i];
            if (c < 0x80)
            {
                state = table[(byte)(state ^ c)] ^ (state >> 8);
                continue;
            }

            if (c < 0x800)
            {
                state = Step(table, state, 0xC0 | (c >> 6));
                state = Step(table, state, 0x80 | (c & 0x3F));
                continue;
            }

            if (char.IsHighSurrogate((char)c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var cp = char.ConvertToUtf32((char)c, text[i + 1]);
                i++;
                state = Step(table, state, 0xF0 | (cp >> 18));
                state = Step(table, state, 0x80 | ((cp >> 12) & 0x3F));
                state = Step(table, state, 0x80 | ((cp >> 6) & 0x3F));
                state = Step(table, state, 0x80 | (cp & 0x3F));
                continue;
            }

            if (char.IsSurrogate((char)c))
            {
                c = 0xFFFD; // a lone surrogate: the replacement character, as Encoding.UTF8 writes it
            }

            state = Step(table, state, 0xE0 | (c >> 12));
            state = Step(table, state, 0x80 | ((c >> 6) & 0x3F));
            state = Step(table, state, 0x80 | (c & 0x3F));
        }

        return state;
    }

    /// <summary>Continues a running state over the decimal digits of <paramref name="value"/> (no sign for non-negative values, no padding).</summary>
    public static uint AppendDecimal(uint state, int value)
    {
        Span<char> digits = stackalloc char[11];
        if (!value.TryFormat(digits, out var written, default, System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("An int did not fit 11 characters.");
        }

        return Append(state, digits[..written]);
    }

    private static uint Step(uint[] table, uint state, int b) => table[(byte)(state ^ (uint)b)] ^ (state >> 8);

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
