namespace DistributedCron;

/// <summary>Base class of the exceptions Dcron throws for cluster and registry conditions.</summary>
public class DcronException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DcronException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A task of that name already exists.</summary>
public sealed class TaskExistsException : DcronException
{
    /// <summary>Creates the exception for <paramref name="taskName"/>.</summary>
    public TaskExistsException(string taskName)
        : base($"Task '{taskName}' already exists; use a Force* method to replace it.") => TaskName = taskName;

    /// <summary>The task name.</summary>
    public string TaskName { get; }
}

/// <summary>The task name is tombstoned (it ran as a one-shot or was marked deleted).</summary>
public sealed class TaskDeletedException : DcronException
{
    /// <summary>Creates the exception for <paramref name="taskName"/>.</summary>
    public TaskDeletedException(string taskName)
        : base($"Task '{taskName}' is marked deleted; call ReuseDeletedTaskAsync or a Force* method to use the name again.") => TaskName = taskName;

    /// <summary>The task name.</summary>
    public string TaskName { get; }
}

/// <summary>No task of that name is known.</summary>
public sealed class TaskNotFoundException : DcronException
{
    /// <summary>Creates the exception for <paramref name="taskName"/>.</summary>
    public TaskNotFoundException(string taskName, string? detail = null)
        : base($"Task '{taskName}' was not found{(detail is null ? "." : ": " + detail)}") => TaskName = taskName;

    /// <summary>The task name.</summary>
    public string TaskName { get; }
}

/// <summary>The node is not (or no longer) registered.</summary>
public sealed class NodeNotFoundException : DcronException
{
    /// <summary>Creates the exception for <paramref name="nodeId"/>.</summary>
    public NodeNotFoundException(string nodeId)
        : base($"Node '{nodeId}' is not registered (expired or removed).") => NodeId = nodeId;

    /// <summary>The node id.</summary>
    public string NodeId { get; }
}

/// <summary>A registry operation failed on the server or on the way to it.</summary>
public class RegistryException : DcronException
{
    /// <summary>Creates the exception.</summary>
    public RegistryException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The registry could not be reached, or did not answer within the configured timeout.</summary>
public class RegistryUnavailableException : RegistryException
{
    /// <summary>Creates the exception.</summary>
    public RegistryUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The registry refused the credentials (wrong password, user, token or certificate).</summary>
public class RegistryAuthenticationException : RegistryException
{
    /// <summary>Creates the exception.</summary>
    public RegistryAuthenticationException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A task payload is larger than the configured limit.</summary>
public sealed class PayloadTooLargeException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public PayloadTooLargeException(string taskName, int actualBytes, int maxBytes)
        : base($"Payload of task '{taskName}' is {actualBytes} bytes (UTF-8); the limit is {maxBytes} bytes.", "Payload")
    {
        TaskName = taskName;
        ActualBytes = actualBytes;
        MaxBytes = maxBytes;
    }

    /// <summary>The task name.</summary>
    public string TaskName { get; }

    /// <summary>The payload's size in UTF-8 bytes.</summary>
    public int ActualBytes { get; }

    /// <summary>The limit.</summary>
    public int MaxBytes { get; }
}
