using Microsoft.Extensions.Logging;

namespace DistributedCron;

/// <summary>
/// The node's task set: its static tasks plus the registry's dynamic tasks (folded from the task watch and replaced
/// by each poll or snapshot), minus tombstoned names. A static task shadows a dynamic task of the same name on this
/// node. Every member runs under the engine's gate.
/// </summary>
internal sealed class TaskCatalog(DcronOptions options, ILogger logger, string nodeId)
{
    private readonly Dictionary<string, TaskDefinition> _static = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskMeta> _metas = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskDefinition?> _dynamic = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deleted = new(StringComparer.Ordinal);
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private string[]? _activeNames;

    /// <summary>Bumped on every change that may change the active set or a definition.</summary>
    public long Version { get; private set; }

    /// <summary>True once the registry's tasks and tombstones were read at least once.</summary>
    public bool Loaded { get; private set; }

    public bool IsStatic(string name) => _static.ContainsKey(name);

    public bool IsKnown(string name) => _static.ContainsKey(name) || _metas.ContainsKey(name);

    public bool IsDeleted(string name) => _deleted.Contains(name);

    public int Count => ActiveNames.Count;

    /// <summary>The definition that runs under <paramref name="name"/> now, or null (unknown, tombstoned, or an unparsable dynamic task).</summary>
    public TaskDefinition? GetActive(string name)
    {
        if (_deleted.Contains(name))
        {
            return null;
        }

        if (_static.TryGetValue(name, out var s))
        {
            return s;
        }

        return _dynamic.TryGetValue(name, out var d) ? d : null;
    }

    /// <summary>The active task names, sorted ordinal.</summary>
    public IReadOnlyList<string> ActiveNames
    {
        get
        {
            if (_activeNames is null)
            {
                var names = new List<string>(_static.Count + _dynamic.Count);
                foreach (var n in _static.Keys)
                {
                    if (!_deleted.Contains(n))
                    {
                        names.Add(n);
                    }
                }

                foreach (var (n, d) in _dynamic)
                {
                    if (d is not null && !_static.ContainsKey(n) && !_deleted.Contains(n))
                    {
                        names.Add(n);
                    }
                }

                names.Sort(StringComparer.Ordinal);
                _activeNames = names.ToArray();
            }

            return _activeNames;
        }
    }

    public void AddStatic(TaskDefinition definition)
    {
        _static[definition.Name] = definition;
        if (Loaded)
        {
            WarnAbout(definition.Name);
        }

        Changed();
    }

    public void SetDeleted(string name, bool deleted)
    {
        if (deleted ? _deleted.Add(name) : _deleted.Remove(name))
        {
            // A tombstone arriving later (a one-shot that ran, MarkTaskDeleted) is expected: no warning.
            _warned.Remove(name);
            Changed();
        }
    }

    public void PutMeta(TaskMeta meta)
    {
        if (_metas.TryGetValue(meta.Name, out var old) && old == meta)
        {
            return;
        }

        _metas[meta.Name] = meta;
        _dynamic[meta.Name] = Parse(meta);
        _warned.Remove(meta.Name);
        WarnAbout(meta.Name);
        Changed();
    }

    public void RemoveMeta(string name)
    {
        if (_metas.Remove(name))
        {
            _dynamic.Remove(name);
            Changed();
        }
    }

    /// <summary>Forgets every trace of <paramref name="name"/> (static, dynamic, tombstone).</summary>
    public void Forget(string name)
    {
        var changed = _static.Remove(name) | _metas.Remove(name) | _dynamic.Remove(name) | _deleted.Remove(name);
        _warned.Remove(name);
        if (changed)
        {
            Changed();
        }
    }

    public void Clear()
    {
        _static.Clear();
        _metas.Clear();
        _dynamic.Clear();
        _deleted.Clear();
        _warned.Clear();
        Changed();
    }

    public void Apply(TaskEvent e)
    {
        switch (e.Kind)
        {
            case TaskEventKind.Snapshot:
                Replace(e.Tasks, e.DeletedNames);
                break;
            case TaskEventKind.Put when e.Task is not null:
                PutMeta(e.Task);
                break;
            case TaskEventKind.Removed:
                RemoveMeta(e.Name);
                break;
            case TaskEventKind.Tombstoned:
                SetDeleted(e.Name, true);
                break;
            case TaskEventKind.Restored:
                SetDeleted(e.Name, false);
                break;
        }
    }

    /// <summary>Replaces the registry part of the catalog by a full read.</summary>
    public void Replace(IReadOnlyDictionary<string, TaskMeta> tasks, IReadOnlySet<string> deleted)
    {
        var changed = false;
        foreach (var name in _metas.Keys.ToArray())
        {
            if (!tasks.ContainsKey(name))
            {
                _metas.Remove(name);
                _dynamic.Remove(name);
                changed = true;
            }
        }

        foreach (var (name, meta) in tasks)
        {
            if (!_metas.TryGetValue(name, out var old) || old != meta)
            {
                _metas[name] = meta;
                _dynamic[name] = Parse(meta);
                _warned.Remove(name);
                changed = true;
            }
        }

        if (!_deleted.SetEquals(deleted))
        {
            _deleted.Clear();
            _deleted.UnionWith(deleted);
            changed = true;
        }

        var first = !Loaded;
        Loaded = true;
        if (first)
        {
            // The node's static tasks meet the registry's tombstones and dynamic tasks for the first time.
            foreach (var name in _static.Keys)
            {
                WarnAbout(name);
            }
        }

        if (changed || first)
        {
            Changed();
        }
    }

    private TaskDefinition? Parse(TaskMeta meta)
    {
        try
        {
            return TaskDefinition.Dynamic(meta, CronExpression.Parse(meta.CronFormat), options);
        }
        catch (CronFormatException ex)
        {
            Log.DynamicCronInvalid(logger, meta.Name, meta.CronFormat, ex);
            return null;
        }
    }

    /// <summary>Logs, once per state, a static task that cannot run as written.</summary>
    private void WarnAbout(string name)
    {
        if (!_static.ContainsKey(name) || _warned.Contains(name))
        {
            return;
        }

        if (_deleted.Contains(name))
        {
            _warned.Add(name);
            Log.StaticTaskTombstoned(logger, name);
        }
        else if (_metas.ContainsKey(name))
        {
            _warned.Add(name);
            Log.StaticShadowsDynamic(logger, name, nodeId);
        }
    }

    private void Changed()
    {
        _activeNames = null;
        Version++;
    }
}
