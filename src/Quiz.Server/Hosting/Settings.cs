using Microsoft.Extensions.Options;

namespace Quiz.Server.Hosting;

/// <summary>
/// Settings sections bound once and checked when the server starts: a bad value stops the start
/// with the key and the reason, instead of failing at the first request that reads it (a wrong
/// import limit used to surface only at the first upload, a wrong ranking timeout at the first finish).
/// </summary>
public static class Settings
{
    /// <param name="validate">The section's own rules; it throws <see cref="ArgumentException"/> or
    /// <see cref="InvalidOperationException"/> naming the key, as the options' Validate methods do.</param>
    public static OptionsBuilder<T> AddSettings<T>(this IHostApplicationBuilder builder, string section, Action<T>? validate = null) where T : class
    {
        var options = builder.Services.AddOptions<T>().BindConfiguration(section);
        if (validate is not null) builder.Services.AddSingleton<IValidateOptions<T>>(new Rules<T>(validate));
        return options.ValidateOnStart();
    }

    private sealed class Rules<T>(Action<T> validate) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            try
            {
                validate(options);
                return ValidateOptionsResult.Success;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
