package dev.quill.server.template;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/**
 * Python's {@code datetime.strftime} for the C/English locale, which transformers' {@code strftime_now(fmt)}
 * global uses (Llama 3.x templates print "Today Date: 26 Jul 2024" with {@code "%d %b %Y"}).
 * Supports the common directives and glibc's {@code %-d} style "no padding" flag.
 */
final class Strftime {

    private Strftime() {}

    static String format(LocalDateTime t, String pattern) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '%' || i + 1 >= pattern.length()) {
                out.append(c);
                continue;
            }
            boolean unpadded = pattern.charAt(i + 1) == '-' && i + 2 < pattern.length();
            char d = pattern.charAt(unpadded ? i + 2 : i + 1);
            String value = directive(t, d, unpadded);
            if (value == null) {
                out.append(c);
                continue;
            }
            out.append(value);
            i += unpadded ? 2 : 1;
        }
        return out.toString();
    }

    private static String directive(LocalDateTime t, char d, boolean unpadded) {
        int hour12 = t.getHour() % 12 == 0 ? 12 : t.getHour() % 12;
        return switch (d) {
            case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
            case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
            case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
            case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
            case 'd' -> number(t.getDayOfMonth(), 2, unpadded);
            case 'e' -> unpadded ? Integer.toString(t.getDayOfMonth()) : String.format("%2d", t.getDayOfMonth());
            case 'm' -> number(t.getMonthValue(), 2, unpadded);
            case 'y' -> number(t.getYear() % 100, 2, unpadded);
            case 'Y' -> Integer.toString(t.getYear());
            case 'H' -> number(t.getHour(), 2, unpadded);
            case 'I' -> number(hour12, 2, unpadded);
            case 'M' -> number(t.getMinute(), 2, unpadded);
            case 'S' -> number(t.getSecond(), 2, unpadded);
            case 'f' -> String.format("%06d", t.getNano() / 1000);
            case 'p' -> t.getHour() < 12 ? "AM" : "PM";
            case 'j' -> number(t.getDayOfYear(), 3, unpadded);
            case 'w' -> Integer.toString(t.getDayOfWeek().getValue() % 7);
            case 'u' -> Integer.toString(t.getDayOfWeek().getValue());
            case 'F' -> String.format("%d-%02d-%02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth());
            case 'D' -> String.format("%02d/%02d/%02d", t.getMonthValue(), t.getDayOfMonth(), t.getYear() % 100);
            case 'T' -> String.format("%02d:%02d:%02d", t.getHour(), t.getMinute(), t.getSecond());
            case 'R' -> String.format("%02d:%02d", t.getHour(), t.getMinute());
            case 'c' -> format(t, "%a %b %e %H:%M:%S %Y");
            case 'x' -> format(t, "%m/%d/%y");
            case 'X' -> format(t, "%H:%M:%S");
            case 'z', 'Z' -> "";
            case 'n' -> "\n";
            case 't' -> "\t";
            case '%' -> "%";
            default -> null;
        };
    }

    private static String number(int value, int width, boolean unpadded) {
        return unpadded ? Integer.toString(value) : String.format("%0" + width + "d", value);
    }
}
