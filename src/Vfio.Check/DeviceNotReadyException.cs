namespace Vfio.Check;

/// <summary>The device cannot be checked yet (no such device, not bound to VFIO): exit 4, nothing was touched.</summary>
internal sealed class DeviceNotReadyException(string message) : Exception(message);
