using Xunit;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace DistributedCron.Tests.Assignment;

public sealed class Crc32Tests
{
    [Theory]
    [InlineData("123456789", 0xCBF43926u)] // the CRC-32/IEEE check value
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xE8B7BE43u)]
    [InlineData("task-a", 0xA2B4901Bu)] // dcron-reference.md §6.8, set 2
    [InlineData("task-b", 0x3BBDC1A1u)]
    [InlineData("report", 0xC42F7784u)]
    [InlineData("0" + "10.0.0.1-1700000000000000000-0001", 3801760793u)]
    [InlineData("199" + "10.0.0.1-1700000000000000000-0001", 2863352321u)]
    public void Known_values(string text, uint expected)
    {
        Assert.Equal(expected, Crc32.Compute(text));
        Assert.Equal(expected, Crc32.Compute(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void Appending_in_pieces_equals_hashing_the_whole()
    {
        var state = Crc32.AppendDecimal(Crc32.Seed, 199);
        state = Crc32.Append(state, "10.0.0.1-1700000000000000000-0001");
        Assert.Equal(2863352321u, Crc32.Finish(state));
    }

    [Theory]
    [InlineData("é")]            // 2-byte UTF-8
    [InlineData("€ zł 日本")]     // 3-byte UTF-8
    [InlineData("\U0001F600x")]  // a surrogate pair: 4-byte UTF-8
    [InlineData("a\uD800b")]     // a lone high surrogate
    [InlineData("\uDC00")]       // a lone low surrogate
    [InlineData("\uD800")]       // a high surrogate at the end
    public void Text_is_hashed_as_its_UTF8_bytes(string text) =>
        Assert.Equal(Crc32.Compute(Encoding.UTF8.GetBytes(text)), Crc32.Compute(text));

    [Fact]
    public void Any_string_hashes_as_its_UTF8_bytes() =>
        Prop.ForAll<string>(s =>
        {
            s ??= "";
            return Crc32.Compute(s) == Crc32.Compute(Encoding.UTF8.GetBytes(s));
        }).QuickCheckThrowOnFailure();
}
