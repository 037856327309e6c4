using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Quiz.Server.Storage;

namespace Quiz.Server.Accounts;

/// <summary>
/// The Data Protection key ring in the store (table data_protection_keys), so every node of one
/// store reads the same keys: a staff cookie or an antiforgery token minted on one node is read on
/// any other. The key manager calls this rarely (when it first needs the ring, about once a day
/// after, and when it adds a key), and its interface is synchronous, so the calls block on the
/// store here rather than make every cookie check asynchronous.
/// </summary>
public sealed class KeyRing(Database database, TimeProvider clock) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = database.OpenAsync().GetAwaiter().GetResult();
        return connection.Query<string>("SELECT xml FROM data_protection_keys ORDER BY id")
            .Select(xml => XElement.Parse(xml)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = database.OpenAsync().GetAwaiter().GetResult();
        connection.Execute("INSERT INTO data_protection_keys (friendly_name, xml, created_at) VALUES (@friendlyName, @xml, @now)",
            new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting), now = clock.GetUtcNow().ToString("O") });
    }
}
