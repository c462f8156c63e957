using Appliance.TestKit;
using Npgsql;

namespace Appliance.Proxy.Tests.Sessions;

/// <summary>
/// The proxy tests' shared PostgreSQL 15 (a <see cref="ThrowAwayPostgres"/> with TLS on, the snakeoil
/// certificate, so SSLRequest pass-through has something to reach).
/// </summary>
public sealed class TestPostgres : IAsyncLifetime
{
    const string Settings = "-c max_connections=50 -c ssl=on -c ssl_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem -c ssl_key_file=/etc/ssl/private/ssl-cert-snakeoil.key";
    ThrowAwayPostgres? _pg;

    public int Port => _pg?.Port ?? throw new InvalidOperationException("PostgreSQL did not start");

    public string ConnectionString(int port, string extra = "") =>
        $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false;Timeout=10;Command Timeout=60;{extra}";

    public NpgsqlConnection Direct() => new(ConnectionString(Port));

    public async Task InitializeAsync() => _pg = await ThrowAwayPostgres.StartAsync(Settings);

    public async Task DisposeAsync()
    {
        if (_pg is not null) await _pg.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<TestPostgres>
{
    public const string Name = "proxy-postgres";
}
