using System.Buffers.Binary;
using System.Text;

namespace DistributedCron.Registry.ZooKeeper.Client;

/// <summary>
/// Writes one jute-encoded packet: big-endian integers, length-prefixed buffers and strings (-1 for null),
/// count-prefixed vectors. The first four bytes are reserved for the frame length, filled in by <see cref="ToFrame"/>.
/// </summary>
internal sealed class JuteWriter
{
    private byte[] _buffer;
    private int _length;

    public JuteWriter(int capacity = 256)
    {
        _buffer = new byte[Math.Max(capacity, 16)];
        _length = 4;
    }

    /// <summary>The body length written so far (without the frame length prefix).</summary>
    public int BodyLength => _length - 4;

    public void WriteInt(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(Reserve(4), value);
    }

    public void WriteLong(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(Reserve(8), value);
    }

    public void WriteBool(bool value)
    {
        Reserve(1)[0] = value ? (byte)1 : (byte)0;
    }

    /// <summary>Writes a jute <c>buffer</c>; null becomes length -1.</summary>
    public void WriteBuffer(byte[]? value)
    {
        if (value is null)
        {
            WriteInt(-1);
            return;
        }

        WriteInt(value.Length);
        value.CopyTo(Reserve(value.Length));
    }

    /// <summary>Writes a jute <c>ustring</c> (UTF-8); null becomes length -1.</summary>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt(-1);
            return;
        }

        var count = Encoding.UTF8.GetByteCount(value);
        WriteInt(count);
        Encoding.UTF8.GetBytes(value, Reserve(count));
    }

    /// <summary>Writes a <c>vector&lt;ustring&gt;</c>; null becomes count -1.</summary>
    public void WriteStringVector(IReadOnlyCollection<string>? values)
    {
        if (values is null)
        {
            WriteInt(-1);
            return;
        }

        WriteInt(values.Count);
        foreach (var v in values)
        {
            WriteString(v);
        }
    }

    /// <summary>Writes a <c>vector&lt;ACL&gt;</c>.</summary>
    public void WriteAcl(IReadOnlyList<ZkAcl> acl)
    {
        WriteInt(acl.Count);
        foreach (var a in acl)
        {
            WriteInt(a.Perms);
            WriteString(a.Scheme);
            WriteString(a.Id);
        }
    }

    /// <summary>The complete frame: the 4-byte body length, then the body.</summary>
    public ReadOnlyMemory<byte> ToFrame()
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(0, 4), _length - 4);
        return _buffer.AsMemory(0, _length);
    }

    /// <summary>The body without the length prefix (for tests and multi payloads).</summary>
    public ReadOnlySpan<byte> Body => _buffer.AsSpan(4, _length - 4);

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
        {
            var next = new byte[Math.Max(_buffer.Length * 2, _length + count)];
            _buffer.AsSpan(0, _length).CopyTo(next);
            _buffer = next;
        }

        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}

/// <summary>Reads jute-encoded records from one received packet body.</summary>
internal sealed class JuteReader
{
    private readonly byte[] _data;
    private readonly int _end;
    private int _pos;

    public JuteReader(byte[] data, int offset = 0, int? count = null)
    {
        _data = data;
        _pos = offset;
        _end = offset + (count ?? data.Length - offset);
    }

    /// <summary>Bytes left to read.</summary>
    public int Remaining => _end - _pos;

    public int ReadInt() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public long ReadLong() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public bool ReadBool() => Take(1)[0] != 0;

    /// <summary>Reads a jute <c>buffer</c>; length -1 gives null.</summary>
    public byte[]? ReadBuffer()
    {
        var len = ReadInt();
        if (len == -1)
        {
            return null;
        }

        if (len < -1)
        {
            throw new ZkProtocolException($"Negative buffer length {len} in a reply.");
        }

        return Take(len).ToArray();
    }

    /// <summary>Reads a jute <c>ustring</c>; length -1 gives null.</summary>
    public string? ReadString()
    {
        var len = ReadInt();
        if (len == -1)
        {
            return null;
        }

        if (len < -1)
        {
            throw new ZkProtocolException($"Negative string length {len} in a reply.");
        }

        return Encoding.UTF8.GetString(Take(len));
    }

    /// <summary>Reads a <c>vector&lt;ustring&gt;</c>; count -1 gives an empty list.</summary>
    public List<string> ReadStringVector()
    {
        var count = ReadInt();
        if (count < -1 || count > Remaining / 4)
        {
            throw new ZkProtocolException($"Invalid vector count {count} in a reply.");
        }

        var list = new List<string>(Math.Max(count, 0));
        for (var i = 0; i < count; i++)
        {
            list.Add(ReadString() ?? "");
        }

        return list;
    }

    /// <summary>Reads the 68-byte <c>Stat</c> record.</summary>
    public ZkStat ReadStat() => new(
        Czxid: ReadLong(),
        Mzxid: ReadLong(),
        Ctime: ReadLong(),
        Mtime: ReadLong(),
        Version: ReadInt(),
        Cversion: ReadInt(),
        Aversion: ReadInt(),
        EphemeralOwner: ReadLong(),
        DataLength: ReadInt(),
        NumChildren: ReadInt(),
        Pzxid: ReadLong());

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _end - _pos)
        {
            throw new ZkProtocolException($"Reply ended early: needed {count} more bytes, {_end - _pos} left.");
        }

        var span = _data.AsSpan(_pos, count);
        _pos += count;
        return span;
    }
}
